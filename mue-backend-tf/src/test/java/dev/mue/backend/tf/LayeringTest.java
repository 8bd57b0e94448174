package dev.mue.backend.tf;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The TensorFlow backend uses the API only (no planner, no other backend), and its classes carry the Tf prefix. */
class LayeringTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue.backend.tf");

    @Test
    void dependsOnNoOtherBackendNorTheRuntime() {
        noClasses().that().resideInAPackage("dev.mue.backend.tf..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend.java..", "dev.mue.backend.torch..", "dev.mue.planner..",
                        "dev.mue.cli..", "dev.mue.tck..", "dev.mue.train..", "dev.mue.runtime..", "dev.mue.session..")
                .check(classes);
    }

    @Test
    void classesArePrefixedTf() {
        classes().that().resideInAPackage("dev.mue.backend.tf").and().areTopLevelClasses()
                .and().doNotHaveSimpleName("package-info").should().haveSimpleNameStartingWith("Tf").check(classes);
    }
}
