package eventbank.engine;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;

/**
 * The engine's layering: it knows the bank only through core, never the server; and its packages
 * (the root with {@link Engine}, which assembles the rest, then write, subscription, history,
 * recovery, journal, snapshot, storage) depend on each other without a cycle.
 */
@AnalyzeClasses(packages = "eventbank", importOptions = ImportOption.DoNotIncludeTests.class)
class EngineLayeringTest {

    @ArchTest
    static final ArchRule engineDependsOnNoEventbankModuleButCore = noClasses()
            .that().resideInAPackage("eventbank.engine..")
            .should().dependOnClassesThat(resideInAPackage("eventbank..")
                    .and(not(resideInAnyPackage("eventbank.core..", "eventbank.engine.."))));

    /** Each class of the engine by its package below eventbank.engine; the root package is a slice too. */
    private static final SliceAssignment ENGINE_PACKAGES = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
            String name = javaClass.getPackageName();
            if (name.equals("eventbank.engine")) {
                return SliceIdentifier.of("eventbank.engine");
            }
            if (!name.startsWith("eventbank.engine.")) {
                return SliceIdentifier.ignore();
            }
            String below = name.substring("eventbank.engine.".length());
            return SliceIdentifier.of("eventbank.engine." + below.split("\\.")[0]);
        }

        @Override
        public String getDescription() {
            return "the engine's packages";
        }
    };

    @ArchTest
    static final ArchRule enginePackagesAreFreeOfCycles = slices().assignedFrom(ENGINE_PACKAGES)
            .should().beFreeOfCycles();
}
