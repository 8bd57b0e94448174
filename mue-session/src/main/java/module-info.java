/**
 * The session facade of mue: {@link dev.mue.session.Mue#session()} opens a
 * {@link dev.mue.session.MueSession} (captioning, visual entailment, prompted generation with MuE
 * exits) over a model bundle, compiling its plans with the planner directly and preparing them on
 * a backend found through {@link java.util.ServiceLoader}; beam search
 * ({@code dev.mue.session.decode}) and OFA's image preprocessing ({@code dev.mue.session.image})
 * live here too, so every backend decodes and preprocesses with the same code.
 *
 * <p>{@code java.desktop} is required transitively: images come in as {@link java.awt.image.BufferedImage}.
 * TwelveMonkeys' JPEG and WebP ImageIO plugins are required so that they are resolved on the module
 * path; ImageIO finds them as services ({@code javax.imageio.spi.ImageReaderSpi}), on the module path
 * and the class path alike.
 */
module dev.mue.session {
    requires transitive dev.mue.api;
    requires dev.mue.planner;
    requires transitive dev.mue.runtime;
    requires transitive java.desktop;
    requires com.twelvemonkeys.imageio.jpeg;
    requires com.twelvemonkeys.imageio.webp;

    exports dev.mue.session;
    exports dev.mue.session.decode;
    exports dev.mue.session.image;

    uses dev.mue.api.spi.BackendProvider;
}
