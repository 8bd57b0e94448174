package dev.mue.planner;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.Test;

/** The planner depends only on the API (design §1, style rule 7); mue has no package cycles. */
class LayeringTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue");

    @Test
    void plannerDependsOnlyOnTheApi() {
        noClasses().that().resideInAPackage("dev.mue.planner..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend..", "dev.mue.cli..", "dev.mue.tck..", "dev.mue.train..",
                        "dev.mue.benchmarks..")
                .check(classes);
    }

    @Test
    void noCyclesBetweenMueModules() {
        SlicesRuleDefinition.slices().matching("dev.mue.(*)..").should().beFreeOfCycles().check(classes);
    }
}
