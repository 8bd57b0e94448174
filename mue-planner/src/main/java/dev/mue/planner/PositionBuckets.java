package dev.mue.planner;

/**
 * OFA's relative-position bucketing: log-spaced 1-D token buckets and exact 2-D image offsets.
 */
public final class PositionBuckets {
    private PositionBuckets() {
    }

    /**
     * Table row of the 1-D relative bias for {@code rel = query - key}: exact within half the
     * bucket size, log-spaced beyond, offset by {@code bucketSize - 1} (OFA's
     * {@code make_token_bucket_position}).
     */
    public static int token(int rel, int bucketSize, int maxPosition) {
        int mid = bucketSize / 2;
        int abs = Math.abs(rel);
        int bucket;
        if (abs <= mid) {
            bucket = rel;
        } else {
            double logPos = Math.ceil(Math.log(abs / (double) mid) / Math.log((maxPosition - 1) / (double) mid)
                    * (mid - 1)) + mid;
            bucket = (int) logPos * Integer.signum(rel);
        }
        int index = bucket + bucketSize - 1;
        return Math.max(0, Math.min(2 * bucketSize - 2, index));
    }

    /**
     * Table row of the 2-D image relative bias between grid cells (r1, c1) and (r2, c2):
     * {@code (r1 - r2 + B - 1) * (2B - 1) + (c1 - c2 + B - 1)} (OFA's {@code make_image_bucket_position}).
     */
    public static int image(int r1, int c1, int r2, int c2, int bucketSize) {
        return (r1 - r2 + bucketSize - 1) * (2 * bucketSize - 1) + (c1 - c2 + bucketSize - 1);
    }

    /** Position id of grid cell (r, c) in the image position table: {@code r * B + c + 1}. */
    public static int imagePositionId(int r, int c, int bucketSize) {
        return r * bucketSize + c + 1;
    }
}
