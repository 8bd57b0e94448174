package dev.mue.importer;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The importer's confinement: it needs only the API, and only the unpickler touches Razorvine. */
class ImporterArchitectureTest {
    private static final JavaClasses IMPORTER = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue.importer");

    @Test
    void dependsOnlyOnTheApi() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("dev.mue.planner..", "dev.mue.backend..",
                "dev.mue.train..", "dev.mue.cli..", "dev.mue.tck..").check(IMPORTER);
    }

    @Test
    void onlyTheAllowListedUnpicklerUsesRazorvine() {
        // Any other use could unpickle around the allow-list (Razorvine's own registry builds more).
        noClasses().that().resideOutsideOfPackage("dev.mue.importer.pickle").should().dependOnClassesThat()
                .resideInAPackage("net.razorvine..").check(IMPORTER);
    }
}
