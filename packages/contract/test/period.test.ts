import { describe, expect, it } from "vitest";
import { addMonthsClamped, periodContaining } from "../src/period.ts";

const d = (s: string) => new Date(s);

describe("period math", () => {
  it("clamps month-end anchors to the target month's last day, counting from the anchor each time", () => {
    const jan31 = d("2025-01-31T10:00:00Z");
    expect(addMonthsClamped(jan31, 1).toISOString()).toBe("2025-02-28T10:00:00.000Z");
    expect(addMonthsClamped(jan31, 2).toISOString()).toBe("2025-03-31T10:00:00.000Z");
    expect(addMonthsClamped(jan31, 3).toISOString()).toBe("2025-04-30T10:00:00.000Z");
    expect(addMonthsClamped(d("2024-01-31T00:00:00Z"), 1).toISOString()).toBe("2024-02-29T00:00:00.000Z");
    expect(addMonthsClamped(d("2024-02-29T00:00:00Z"), 12).toISOString()).toBe("2025-02-28T00:00:00.000Z");
    expect(addMonthsClamped(d("2025-11-30T00:00:00Z"), 3).toISOString()).toBe("2026-02-28T00:00:00.000Z");
  });

  it("finds the period containing now", () => {
    const anchor = d("2025-01-31T10:00:00Z");
    expect(periodContaining(anchor, "month", d("2025-03-01T00:00:00Z"))).toEqual({
      start: d("2025-02-28T10:00:00Z"),
      end: d("2025-03-31T10:00:00Z"),
    });
    // The boundary instant belongs to the new period.
    expect(periodContaining(anchor, "month", d("2025-02-28T10:00:00Z")).start).toEqual(
      d("2025-02-28T10:00:00Z"),
    );
    expect(periodContaining(anchor, "year", d("2027-06-01T00:00:00Z"))).toEqual({
      start: d("2027-01-31T10:00:00Z"),
      end: d("2028-01-31T10:00:00Z"),
    });
    expect(periodContaining(anchor, "month", d("2024-12-01T00:00:00Z")).start).toEqual(anchor);
  });
});
