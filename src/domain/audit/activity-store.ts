/** How many records of an action a zone's trail holds for an app on one UTC day. */
export interface DailyCount {
  /** `YYYY-MM-DD`. */
  readonly day: string;
  readonly action: string;
  readonly count: number;
}

/** Reads of a zone's audit trail that are counts, not records. */
export interface ActivityStore {
  /** Records of these actions for the app since `since`, counted per UTC day and action. */
  dailyCounts(appId: string, actions: readonly string[], since: Date): Promise<DailyCount[]>;
}
