package dev.mue.serve;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The server's layering: only the HTTP package and the server's entry point know Jetty; the
 * protocol codec knows neither mue's sessions nor the server; the batcher knows no model; the
 * packages have no cycles and none leans on the entry-point package above them; backends only
 * through the SPI.
 */
class LayeringTest {
    private static final JavaClasses SERVE = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue.serve");

    @Test
    void onlyTheHttpPackageAndTheServerKnowJetty() {
        noClasses().that().resideInAnyPackage("dev.mue.serve.protocol..", "dev.mue.serve.batch..", "dev.mue.serve.infer..",
                "dev.mue.serve.metrics..").should().dependOnClassesThat().resideInAPackage("org.eclipse.jetty..").check(SERVE);
    }

    @Test
    void theProtocolAndTheBatcherKnowNoModel() {
        noClasses().that().resideInAnyPackage("dev.mue.serve.protocol..", "dev.mue.serve.batch..").should()
                .dependOnClassesThat().resideInAnyPackage("dev.mue.session..", "dev.mue.serve.infer..", "dev.mue.serve.http..")
                .check(SERVE);
    }

    @Test
    void noCyclesAndNothingLeansOnTheEntryPoint() {
        slices().matching("dev.mue.serve.(*)..").should().beFreeOfCycles().check(SERVE);
        noClasses().that().resideInAnyPackage("dev.mue.serve.*..").should().dependOnClassesThat()
                .resideInAPackage("dev.mue.serve").check(SERVE);
    }

    @Test
    void backendsOnlyThroughTheSpi() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.mue.backend..", "dev.mue.cli..").check(SERVE);
    }
}
