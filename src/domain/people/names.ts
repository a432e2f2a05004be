/** A first name or surname: 1 to 100 printable characters, no control or format characters, no angle brackets. */
export const isPersonName = (value: string): boolean => /^[^\p{Cc}\p{Cf}<>]{1,100}$/u.test(value);
