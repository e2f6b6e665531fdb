/**
 * Java `String.hashCode()` (`shared/spec/broker-internals.md` §0.2): `h = 31*h + c` over UTF-16
 * code units with 32-bit wrap-around. JS strings are UTF-16 too, so `charCodeAt` sees exactly the
 * units Java sees (a non-BMP character counts as its two surrogates in both).
 */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/**
 * The consume-queue tag code of a message (remoting.md §6.3): 0 without tags, else the Java hash
 * of the whole TAGS value (also for MULTI_TAG topics). A signed int32; the ConsumeQueue stores it
 * sign-extended into its int64 field.
 */
export function tagsCode(tags: string | undefined): number {
  return tags ? javaStringHash(tags) : 0;
}
