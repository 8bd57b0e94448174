package dev.mue.runtime;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The runtime sits on the API alone (design §10.1): it drives backends through the layer SPI, never
 * knows one, and does not need the planner (plans are the API's type).
 */
class LayeringTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue.runtime");

    @Test
    void theRuntimeDependsOnlyOnTheApi() {
        noClasses().that().resideInAPackage("dev.mue.runtime..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend..", "dev.mue.planner..", "dev.mue.session..", "dev.mue.cli..",
                        "dev.mue.tck..", "dev.mue.train..", "dev.mue.benchmarks..", "dev.mue.importer..")
                .check(classes);
    }
}
