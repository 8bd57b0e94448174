package dev.mue.backend.torch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The torch backend uses the API and plan only (design §1): no other backend, no tool, no planner. */
class LayeringTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue");

    @Test
    void dependsOnNoOtherBackendNorTheRuntime() {
        noClasses().that().resideInAPackage("dev.mue.backend.torch..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend.java..", "dev.mue.backend.tf..", "dev.mue.planner..",
                        "dev.mue.cli..", "dev.mue.tck..", "dev.mue.train..", "dev.mue.runtime..", "dev.mue.session..")
                .check(classes);
    }
}
