import { z } from 'zod';

/*
 * The API server's text is data a check repeats: a condition message, a phase reason, an image
 * list. A controller gone wrong (or a hostile server) can make any of it megabytes long, and the
 * runner's ceiling on results would then cut a check's own sentence in the middle, dropping its
 * "expected ..." half. So what a check reads is cut where it is read, and lists are named by
 * their first few items and a count.
 */

/** Condition messages, phase reasons, Status messages: a sentence or two. */
export const MAX_SERVER_TEXT = 300;
/** Names and image references: an image with registry, path, tag and digest fits with room. */
export const MAX_NAME = 512;
/** Items named in a message before "and N more". */
export const MAX_LISTED = 10;
/** Conditions kept of an object's status (controllers set a handful). */
export const MAX_CONDITIONS = 20;

/** `text`, or its first `max` characters and how many were left out. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const code = text.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}... (${text.length - end} more characters)`;
}

/** A string from the API server, cut to `max` characters as it is parsed. */
export function serverText(max = MAX_SERVER_TEXT): z.ZodPipe<z.ZodString, z.ZodTransform<string, string>> {
  return z.string().transform((text) => cutText(text, max));
}

/** "a, b, c" or "a, b, ... j and 90 more": the first `max` items (distinct ones, in order). */
export function listSome(items: Iterable<string>, max = MAX_LISTED): string {
  const distinct = [...new Set(items)];
  if (distinct.length <= max) return distinct.join(', ');
  return `${distinct.slice(0, max).join(', ')} and ${distinct.length - max} more`;
}

/** A condition with each of its texts cut (a controller's message is free text). */
export function boundCondition(c: { type: string; status: string; reason?: string | undefined; message?: string | undefined }): { type: string; status: string; reason?: string; message?: string } {
  return {
    type: cutText(c.type, MAX_SERVER_TEXT),
    status: cutText(c.status, MAX_SERVER_TEXT),
    ...(c.reason !== undefined && { reason: cutText(c.reason, MAX_SERVER_TEXT) }),
    ...(c.message !== undefined && { message: cutText(c.message, MAX_SERVER_TEXT) }),
  };
}
