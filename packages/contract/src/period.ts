/**
 * Billing-period arithmetic shared by the marketplace (in SQL, see
 * `usage_period` in migrations/0003_billing.sql) and the SDK (`resetsAt`).
 *
 * A period of N months starts at `anchor + k·N months` for the k that
 * contains `now`. Months are added to the anchor itself, never chained, and
 * the day is clamped to the target month's last day: an anchor on Jan 31
 * gives Feb 28 (29 in leap years), Mar 31, Apr 30, … All in UTC.
 */
export type BillingInterval = "month" | "year" | "one_time";

/** Months per period; a one-time purchase meters rolling usage monthly from the purchase. */
export const intervalMonths = (interval: BillingInterval): number => (interval === "year" ? 12 : 1);

export function addMonthsClamped(anchor: Date, months: number): Date {
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth() + months;
  const targetYear = year + Math.floor(month / 12);
  const targetMonth = ((month % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      targetYear,
      targetMonth,
      Math.min(anchor.getUTCDate(), lastDay),
      anchor.getUTCHours(),
      anchor.getUTCMinutes(),
      anchor.getUTCSeconds(),
      anchor.getUTCMilliseconds(),
    ),
  );
}

export interface Period {
  start: Date;
  end: Date;
}

/** The period (of `interval`, anchored at `anchor`) that contains `now`; before the anchor, the first one. */
export function periodContaining(anchor: Date, interval: BillingInterval, now: Date): Period {
  const step = intervalMonths(interval);
  if (now.getTime() < anchor.getTime()) return { start: anchor, end: addMonthsClamped(anchor, step) };
  const monthsApart =
    (now.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (now.getUTCMonth() - anchor.getUTCMonth());
  let k = Math.floor(monthsApart / step);
  while (k > 0 && addMonthsClamped(anchor, k * step).getTime() > now.getTime()) k--;
  while (addMonthsClamped(anchor, (k + 1) * step).getTime() <= now.getTime()) k++;
  return { start: addMonthsClamped(anchor, k * step), end: addMonthsClamped(anchor, (k + 1) * step) };
}
