package dev.mue.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import org.junit.jupiter.api.Test;

/**
 * The module layering of design §1 and §10.1 over every mue class this module sees (the CLI
 * depends on all of them): api <- planner <- session <- cli, backends on the api only and reached
 * through the SPI, no backend on another, no cycles.
 */
class ArchitectureTest {
    private static final JavaClasses ALL = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.mue");

    @Test
    void apiDependsOnNothingOfOurs() {
        noClasses().that().resideInAPackage("dev.mue.api..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.planner..", "dev.mue.session..", "dev.mue.backend..", "dev.mue.cli..")
                .check(ALL);
    }

    @Test
    void plannerDependsOnlyOnTheApi() {
        noClasses().that().resideInAPackage("dev.mue.planner..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.session..", "dev.mue.backend..", "dev.mue.cli..").check(ALL);
    }

    @Test
    void theFacadeReachesBackendsOnlyThroughTheSpi() {
        noClasses().that().resideInAPackage("dev.mue.session..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend..", "dev.mue.cli..").check(ALL);
    }

    @Test
    void backendsDoNotKnowTheCli() {
        noClasses().that().resideInAPackage("dev.mue.backend..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.session..", "dev.mue.cli..").check(ALL);
    }

    @Test
    void cliReachesBackendsOnlyThroughTheSpi() {
        // The planner is called directly (one planner, no service lookup); backends only through the SPI.
        noClasses().that().resideInAPackage("dev.mue.cli..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.mue.backend..").check(ALL);
    }

    @Test
    void noCyclesBetweenModulesOrPackages() {
        SlicesRuleDefinition.slices().matching("dev.mue.(*)..").should().beFreeOfCycles().check(ALL);
        SlicesRuleDefinition.slices().matching("dev.mue.backend.(*)..").should().beFreeOfCycles().check(ALL);
    }
}
