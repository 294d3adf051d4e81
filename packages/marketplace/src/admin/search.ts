/** A LIKE pattern's metacharacters escaped, so a search term matches literally. */
export const escapeLike = (value: string) => value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
