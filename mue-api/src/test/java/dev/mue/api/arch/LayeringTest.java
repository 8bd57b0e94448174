package dev.mue.api.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.Test;

/** The API depends on no other mue module and has no package cycles (design §1, style rule 7). */
class LayeringTest {
    private final JavaClasses api = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue.api");

    @Test
    void apiDependsOnNoOtherMueModule() {
        noClasses().that().resideInAPackage("dev.mue.api..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.planner..", "dev.mue.session..", "dev.mue.backend..", "dev.mue.cli..",
                        "dev.mue.tck..", "dev.mue.train..", "dev.mue.importer..", "dev.mue.benchmarks..")
                .check(api);
    }

    @Test
    void apiNeedsNoDesktopModule() {
        // Images and their preprocessing belong to the session facade: backends that require the
        // contracts do not pull in java.desktop.
        noClasses().that().resideInAPackage("dev.mue.api..").should().dependOnClassesThat()
                .resideInAnyPackage("java.awt..", "javax.imageio..", "javax.swing..")
                .check(api);
    }

    @Test
    void apiHasNoCommonsOrBackendLibraries() {
        noClasses().that().resideInAPackage("dev.mue.api..").should().dependOnClassesThat()
                .resideInAnyPackage("ai.djl..", "org.tensorflow..", "jdk.incubator.vector..", "picocli..")
                .check(api);
    }
}
