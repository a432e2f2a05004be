/** How many records of an action a zone's trail holds for an app on one UTC day. */
export interface DailyCount {
  /** `YYYY-MM-DD`. */
  readonly day: string;
  readonly action: string;
  readonly count: number;
}

/** A record about a person, as their account centre lists it. */
export interface PersonActivity {
  /** When it first happened (a record copied by a zone move keeps its original time). */
  readonly at: Date;
  readonly action: string;
  readonly field: string | null;
  readonly appId: string | null;
  readonly actorKind: string;
  readonly purpose: string | null;
}

/** A record about a person with everything the chain keeps of it, for their export. */
export interface ExportedRecord {
  readonly id: string | number;
  readonly occurred_at: Date;
  readonly action: string;
  readonly field: string | null;
  readonly actor_kind: string;
  readonly app_id: string | null;
  readonly purpose: string | null;
  readonly request_id: string | null;
  readonly origin_store: string | null;
  readonly origin_id: string | null;
  readonly origin_at: Date | null;
}

/** Reads of a zone's audit trail. */
export interface ActivityStore {
  /** The records about a person, newest first (optionally those of one app). */
  aboutPerson(personId: string, options: { appId?: string; limit: number }): Promise<PersonActivity[]>;
  /** Every record about a person, oldest first. */
  exportFor(personId: string): Promise<ExportedRecord[]>;
  /** Records of these actions for the app since `since`, counted per UTC day and action. */
  dailyCounts(appId: string, actions: readonly string[], since: Date): Promise<DailyCount[]>;
}
