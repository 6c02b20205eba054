package eventbank.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The bank's rules stand alone: core depends on no other eventbank module and on no library but
 * the JDK (javax.crypto for the HMAC of verification codes), so it can be read, tested and
 * reused without the engine or the server.
 */
@AnalyzeClasses(packages = "eventbank", importOptions = ImportOption.DoNotIncludeTests.class)
class CoreLayeringTest {

    @ArchTest
    static final ArchRule coreDependsOnNothingButTheJdk = classes()
            .that().resideInAPackage("eventbank.core..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("eventbank.core..", "java..", "javax.crypto..");
}
