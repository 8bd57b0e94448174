package dev.mue.backend.java;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The Java backend uses the API and plan only; no other backend; the Vector API stays in kernels. */
class LayeringTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue");

    @Test
    void dependsOnNoOtherBackendNorTheRuntime() {
        noClasses().that().resideInAPackage("dev.mue.backend.java..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend.torch..", "dev.mue.backend.tf..", "dev.mue.cli..",
                        "dev.mue.tck..", "dev.mue.train..", "dev.mue.planner..", "dev.mue.runtime..",
                        "dev.mue.session..")
                .check(classes);
    }

    @Test
    void vectorApiOnlyInKernels() {
        noClasses().that().resideOutsideOfPackage("dev.mue.backend.java.kernels..").should().dependOnClassesThat()
                .resideInAPackage("jdk.incubator.vector..").check(classes);
    }
}
