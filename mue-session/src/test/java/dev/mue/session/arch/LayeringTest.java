package dev.mue.session.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The facade sits on the contracts and the planner only (design §10.1): it never names a backend
 * class (backends are found through the SPI at run time), nor the tools above it, and its
 * packages have no cycles.
 */
class LayeringTest {
    private final JavaClasses session = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue.session");

    @Test
    void theFacadeDependsOnTheContractsAndThePlannerOnly() {
        noClasses().that().resideInAPackage("dev.mue.session..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend..", "dev.mue.cli..", "dev.mue.tck..", "dev.mue.train..",
                        "dev.mue.importer..", "dev.mue.benchmarks..", "ai.djl..", "org.tensorflow..",
                        "jdk.incubator.vector..")
                .check(session);
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.mue.session.(*)..").should().beFreeOfCycles().check(session);
    }
}
