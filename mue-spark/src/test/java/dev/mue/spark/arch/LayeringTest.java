package dev.mue.spark.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * mue-spark is a tool over the facade: it uses the contracts and the session only (backends are
 * found through the SPI, the default model is a resource), what runs on the executors never
 * reaches for the command line, and its packages have no cycles.
 */
class LayeringTest {
    private final JavaClasses spark = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue.spark");

    @Test
    void sparkDependsOnTheContractsAndTheFacadeOnly() {
        noClasses().that().resideInAPackage("dev.mue.spark..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend..", "dev.mue.planner..", "dev.mue.cli..", "dev.mue.tck..",
                        "dev.mue.train..", "dev.mue.importer..", "dev.mue.benchmarks..")
                .check(spark);
    }

    @Test
    void theExecutorSideNeverUsesTheApiBuilderOrTheCommand() {
        noClasses().that().resideInAPackage("dev.mue.spark.exec..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.spark", "dev.mue.spark.cli..").check(spark);
    }

    @Test
    void noPackageCycles() {
        slices().matching("dev.mue.spark.(*)..").should().beFreeOfCycles().check(spark);
    }
}
