/** A parsed `application/x-www-form-urlencoded` (or multipart) body. */
export type Form = Record<string, unknown>;

/** A form value that must be one string: arrays and objects (`a[]=1&a[]=2`) are refused. */
export function formString(form: Form, name: string, maxLength = 1024): string | undefined {
  const value = form[name];
  return typeof value === 'string' && value.length <= maxLength ? value : undefined;
}

export function formStrings(form: Form, name: string, maxEach = 1024): string[] {
  const value = form[name];
  if (typeof value === 'string') return value.length <= maxEach ? [value] : [];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.length <= maxEach) : [];
}
