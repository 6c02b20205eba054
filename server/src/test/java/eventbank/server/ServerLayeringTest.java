package eventbank.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The server's packages as docs/ARCHITECTURE.md maps them, held as rules: the assembly
 * ({@link BankService}, {@link Main}) at the root on top, the command line and the HTTP API
 * beside each other and blind to each other, and no cycle anywhere between packages.
 */
class ServerLayeringTest {
    private static final String SERVER = "eventbank.server";

    static JavaClasses mainClasses;

    @BeforeAll
    static void importMainClasses() {
        mainClasses = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(SERVER);
        assertThat(mainClasses).as("the server's main classes were found").hasSizeGreaterThan(50);
    }

    @Test
    void noCyclesBetweenTheServersPackages() {
        slices().assignedFrom(serverPackages()).should().beFreeOfCycles().check(mainClasses);
    }

    @Test
    void theCommandLineAndTheHttpApiDoNotKnowEachOther() {
        noClasses().that().resideInAPackage(SERVER + ".cli..")
                .should().dependOnClassesThat().resideInAPackage(SERVER + ".http..")
                .check(mainClasses);
        noClasses().that().resideInAPackage(SERVER + ".http..")
                .should().dependOnClassesThat().resideInAPackage(SERVER + ".cli..")
                .check(mainClasses);
    }

    /** The root assembles every part; no part reaches back up to it. */
    @Test
    void nothingDependsOnTheAssembly() {
        noClasses().that().resideOutsideOfPackage(SERVER)
                .should().dependOnClassesThat().resideInAPackage(SERVER)
                .check(mainClasses);
    }

    /** What both sides share, and the read side, stand on the engine and core alone. */
    @Test
    void theSharedJsonAndTheReadModelsDependOnNoOtherServerPackage() {
        for (String leaf : List.of("json", "readmodel")) {
            noClasses().that().resideInAPackage(SERVER + "." + leaf + "..")
                    .should().dependOnClassesThat(inServerOutside(SERVER + "." + leaf))
                    .check(mainClasses);
        }
    }

    @Test
    void theServersMainCodeDependsOnNoTestOnlyCode() {
        noClasses().should().dependOnClassesThat(testOnly()).check(mainClasses);
    }

    /** Each class of the server in the slice of its package below {@code eventbank.server}; the root is one too. */
    private static SliceAssignment serverPackages() {
        return new SliceAssignment() {
            @Override
            public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
                String name = javaClass.getPackageName();
                if (name.equals(SERVER)) {
                    return SliceIdentifier.of("the assembly (" + SERVER + ")");
                }
                if (name.startsWith(SERVER + ".")) {
                    return SliceIdentifier.of(name.substring(SERVER.length() + 1).split("\\.")[0]);
                }
                return SliceIdentifier.ignore();
            }

            @Override
            public String getDescription() {
                return "the server's packages";
            }
        };
    }

    private static DescribedPredicate<JavaClass> inServerOutside(String packageName) {
        return DescribedPredicate.describe("in the server outside " + packageName, javaClass ->
                (javaClass.getPackageName() + ".").startsWith(SERVER + ".")
                        && !(javaClass.getPackageName() + ".").startsWith(packageName + "."));
    }

    /**
     * Code only tests may run: classes built from a test source set (a module's test classes, the
     * engine's test jar) and the testkit's {@code FaultInjectingStorage}, which fails storage on
     * purpose.
     */
    private static DescribedPredicate<JavaClass> testOnly() {
        return DescribedPredicate.describe("test-only code", javaClass ->
                javaClass.getSimpleName().equals("FaultInjectingStorage")
                        || javaClass.getSource().map(source -> ImportOption.Predefined.ONLY_INCLUDE_TESTS
                        .includes(Location.of(source.getUri()))).orElse(false));
    }
}
