package dev.mue.planner;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Values worked by hand from OFA's make_token_bucket_position / make_image_bucket_position. */
class PositionBucketsTest {

    @Test
    void tokenBucketsOfOfa() {
        // bucket 256, max position 1024: mid 128, exact within |r| <= 128, offset 255
        assertEquals(255, PositionBuckets.token(0, 256, 1024));
        assertEquals(255 + 128, PositionBuckets.token(128, 256, 1024));
        assertEquals(255 - 128, PositionBuckets.token(-128, 256, 1024));
        // |r| = 129: ceil(ln(129/128) / ln(1023/128) * 127) + 128 = ceil(0.4755) + 128 = 129
        assertEquals(255 + 129, PositionBuckets.token(129, 256, 1024));
        assertEquals(255 - 129, PositionBuckets.token(-129, 256, 1024));
        // |r| = 1023 reaches the last bucket: 127 + 128 = 255 -> index 510 (table of 511 rows)
        assertEquals(510, PositionBuckets.token(1023, 256, 1024));
        assertEquals(0, PositionBuckets.token(-1023, 256, 1024));
        // |r| = 500: ceil(ln(500/128)/ln(1023/128)*127) + 128 = ceil(83.24) + 128 = 212
        assertEquals(255 + 212, PositionBuckets.token(500, 256, 1024));
    }

    @Test
    void imageBucketsOfOfa() {
        // bucket 42: (dr + 41) * 83 + (dc + 41)
        assertEquals(41 * 83 + 41, PositionBuckets.image(3, 4, 3, 4, 42));
        assertEquals((2 + 41) * 83 + (-1 + 41), PositionBuckets.image(5, 2, 3, 3, 42));
        assertEquals(0, PositionBuckets.image(0, 0, 41, 41, 42));
        assertEquals(83 * 83 - 1, PositionBuckets.image(41, 41, 0, 0, 42));
        assertEquals(2 * 42 + 3 + 1, PositionBuckets.imagePositionId(2, 3, 42));
    }
}
