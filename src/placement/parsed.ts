/** The result of a parser that never throws: the value, or why the text could not be read. Web-standard. */

/** A parse result: the value, or why the text could not be read. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
