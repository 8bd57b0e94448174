package dev.mue.serve.protocol;

/** The OIP tensor datatypes this server reads or writes (the protocol names more; none of them is served). */
public enum Datatype {
    /** Variable-length byte strings: images (base64 in JSON) and UTF-8 text. */
    BYTES,
    /** 32-bit IEEE floats, little-endian in binary form. */
    FP32
}
