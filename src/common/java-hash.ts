/**
 * Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, wrapped to int32.
 * RocketMQ uses it for consume-queue tag codes and index-file key hashes, so it must match the JDK
 * bit for bit (test/fixtures/java-hash.json holds values computed by the JDK).
 */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) {
    h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  }
  return h;
}
