package dev.mue.serve;

/**
 * A serving process for {@link SignalTest}: starts a server on a free port with a ten-minute batch
 * delay, prints {@code port N}, drains on SIGTERM as {@code mue serve} does, and exits 0.
 */
final class ServeProcessFixture {
    private ServeProcessFixture() {
    }

    public static void main(String[] args) throws InterruptedException {
        MueServer server = MueServer.start(Fixtures.spec(),
                ServeConfig.defaults(0).withBatching(8, 600_000).withQueue(64, 1, 1_200_000));
        TerminationSignals.install(server::shutdown);
        System.out.println("port " + server.port());
        System.out.flush();
        server.awaitStopped();
        System.exit(0);
    }
}
