/** key-region-changed's options, under `incidents.key-region-changed`. */
import * as v from "valibot";

export const OPTIONS = {
  /**
   * The Regions a multi-Region key may live in. Empty (the default): not judged, no finding.
   */
  allowedRegions: v.optional(
    v.array(
      v.pipe(
        v.string(),
        v.regex(/^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/, "must be a Region name like eu-west-1"),
      ),
    ),
    () => [],
  ),
};
