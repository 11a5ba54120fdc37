// Request dates in every form HTTP clients put in a `Date` header (SigV4 without x-amz-date, SigV2):
// RFC 7231's IMF-fixdate, its obsolete RFC 850 and asctime forms, and RFC 822 / 1123 / 5322 dates
// with any zone clients send (GMT, UT, UTC, Z, +0000, -0000, other offsets, the US zone names),
// plus the ISO 8601 basic form of x-amz-date. Pure; only the time is returned (the signature always
// covers the header text exactly as sent).

const MONTHS: Readonly<Record<string, number>> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** RFC 822 zone names (section 5.1) and their offsets in minutes east of UTC. */
const ZONES: Readonly<Record<string, number>> = {
  gmt: 0,
  ut: 0,
  utc: 0,
  z: 0,
  est: -300,
  edt: -240,
  cst: -360,
  cdt: -300,
  mst: -420,
  mdt: -360,
  pst: -480,
  pdt: -420,
};

const WEEKDAY = '(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*';
/**
 * RFC 822/1123/5322 and RFC 850: `[Weekday,] D[D] Mon YY[YY] HH:MM[:SS] [zone]`, the day, month and
 * year separated by spaces or dashes (RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT`). No zone means UTC.
 */
const RFC822 = new RegExp(
  `^(?:${WEEKDAY},?\\s+)?(\\d{1,2})[\\s-]+([a-z]{3})[a-z]*[\\s-]+(\\d{2}|\\d{4})\\s+(\\d{1,2}):(\\d{2})(?::(\\d{2}))?(?:\\s*([a-z]{1,3}|[+-]\\d{4}))?$`,
  'i',
);
/** asctime: `Sun Nov  6 08:49:37 1994` (always UTC). */
const ASCTIME = new RegExp(`^${WEEKDAY}\\s+([a-z]{3})\\s+(\\d{1,2})\\s+(\\d{1,2}):(\\d{2}):(\\d{2})\\s+(\\d{4})$`, 'i');
/** ISO 8601 basic, as x-amz-date: `20130524T000000Z`. */
const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Date.UTC that refuses out-of-range fields (Feb 30, hour 24, minute 60...) instead of rolling them over. */
export function strictUtc(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
  if (mo < 0 || mo > 11 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC maps the years 0..99 to 1900..1999.
  const t = new Date(0);
  t.setUTCFullYear(y, mo, d);
  t.setUTCHours(h, mi, s, 0);
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo && t.getUTCDate() === d ? t.getTime() : undefined;
}

/** A two-digit year as RFC 850 / RFC 2822 readers take it: 00-49 → 20xx, 50-99 → 19xx. */
function fullYear(text: string): number {
  const y = Number(text);
  if (text.length === 4) return y;
  return y < 50 ? 2000 + y : 1900 + y;
}

/** The offset (minutes east of UTC) of a zone token, or undefined when it is not one. */
function zoneOffset(zone: string | undefined): number | undefined {
  if (zone === undefined) return 0;
  const z = zone.toLowerCase();
  if (/^[+-]\d{4}$/.test(z)) {
    const hours = Number(z.slice(1, 3));
    const minutes = Number(z.slice(3, 5));
    if (minutes > 59) return undefined;
    const offset = hours * 60 + minutes;
    return z[0] === '-' ? -offset : offset;
  }
  return ZONES[z];
}

/**
 * A request date in any of the forms above → ms since the epoch (negative before 1970), or
 * undefined when it is none of them. Surrounding whitespace is ignored.
 */
export function parseRequestDate(text: string): number | undefined {
  const s = text.trim();
  let m = ISO_BASIC.exec(s);
  if (m) return strictUtc(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  m = RFC822.exec(s);
  if (m) {
    const month = MONTHS[m[2]!.toLowerCase()];
    const offset = zoneOffset(m[7]);
    if (month === undefined || offset === undefined) return undefined;
    const t = strictUtc(fullYear(m[3]!), month, +m[1]!, +m[4]!, +m[5]!, m[6] === undefined ? 0 : +m[6]);
    return t === undefined ? undefined : t - offset * 60_000;
  }
  m = ASCTIME.exec(s);
  if (m) {
    const month = MONTHS[m[1]!.toLowerCase()];
    if (month === undefined) return undefined;
    return strictUtc(+m[6]!, month, +m[2]!, +m[3]!, +m[4]!, +m[5]!);
  }
  return undefined;
}
