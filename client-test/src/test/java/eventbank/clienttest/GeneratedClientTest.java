package eventbank.clienttest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import eventbank.client.ApiClient;
import eventbank.client.ApiException;
import eventbank.client.ApiResponse;
import eventbank.client.api.AccountsApi;
import eventbank.client.api.AdminApi;
import eventbank.client.api.MoneyApi;
import eventbank.client.api.OperationsApi;
import eventbank.client.model.AccountResponse;
import eventbank.client.model.BatchTransferRequest;
import eventbank.client.model.BatchTransferResponse;
import eventbank.client.model.ErrorCode;
import eventbank.client.model.EventLine;
import eventbank.client.model.EventsResponse;
import eventbank.client.model.HealthResponse;
import eventbank.client.model.LoginRequest;
import eventbank.client.model.OpenAccountRequest;
import eventbank.client.model.OpenAccountResponse;
import eventbank.client.model.OperationResponse;
import eventbank.client.model.Transaction;
import eventbank.client.model.TransactionsResponse;
import eventbank.client.model.TransferOperation;
import eventbank.client.model.TransferRequest;
import eventbank.client.model.TransferResponse;
import eventbank.client.model.VerifyResponse;
import eventbank.client.model.WhatIfCommand;
import eventbank.client.model.WhatIfCommandOutcome;
import eventbank.client.model.WhatIfDifference;
import eventbank.client.model.WhatIfRequest;
import eventbank.client.model.WhatIfResponse;
import eventbank.client.model.WhatIfWithdrawCommand;
import eventbank.client.model.WithdrawRequest;
import eventbank.client.model.WithdrawResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client openapi-generator made from the API description at build time, against the real
 * server: the description is the one the server serves, and the README's story runs through
 * the generated client as a user of the API would write it.
 */
class GeneratedClientTest {
    private static final long OPENING_BALANCE = 100_000;

    @TempDir
    static Path temp;

    static ServerProcess server;
    static ApiClient client;

    @BeforeAll
    static void start() throws Exception {
        server = ServerProcess.start(temp);
        client = new ApiClient();
        client.updateBaseUri(server.baseUri());
    }

    @AfterAll
    static void stop() throws Exception {
        assertThat(server.stop()).as("the server's exit code after SIGTERM").isZero();
    }

    /** The client is generated from the file in the server's resources: the bytes /openapi.json serves. */
    @Test
    void theServedDescriptionIsTheFileTheClientIsGeneratedFrom() throws Exception {
        Path file = Path.of(System.getProperty("api.description"));
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<byte[]> served = http.send(
                    HttpRequest.newBuilder(URI.create(server.baseUri() + "/openapi.json")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(served.body()).isEqualTo(Files.readAllBytes(file));
        }
    }

    @Test
    void theReadmeStoryRunsThroughTheGeneratedClient() throws Exception {
        AccountsApi accounts = new AccountsApi(client);
        MoneyApi money = new MoneyApi(client);

        // Open two accounts, each verified through the link mailed to it.
        String alice = openAndVerify(accounts, "alice@example.com", "correct horse");
        String bob = openAndVerify(accounts, "bob@example.com", "battery staple");
        Map<String, String> asAlice = bearer(accounts.login(
                new LoginRequest().accountNumber(alice).password("correct horse")).getToken());

        // A transfer with an Idempotency-Key, and its retry: the first reply again, nothing moved twice.
        TransferRequest rent = new TransferRequest().toAccountNumber(bob).amount(2500L);
        ApiResponse<TransferResponse> first = money.transferMoneyWithHttpInfo(rent, "rent-2026-11", asAlice);
        TransferResponse transfer = first.getData();
        assertThat(transfer.getFromAccountNumber()).isEqualTo(alice);
        assertThat(transfer.getToAccountNumber()).isEqualTo(bob);
        assertThat(transfer.getAmount()).isEqualTo(2500);
        assertThat(transfer.getBalance()).isEqualTo(OPENING_BALANCE - 2500);
        assertThat(first.getHeaders()).doesNotContainKey("idempotent-replayed");
        ApiResponse<TransferResponse> replay = money.transferMoneyWithHttpInfo(rent, "rent-2026-11", asAlice);
        assertThat(replay.getStatusCode()).isEqualTo(first.getStatusCode());
        assertThat(replay.getData()).isEqualTo(transfer);
        assertThat(replay.getHeaders().get("idempotent-replayed")).containsExactly("true");

        WithdrawResponse withdrawal = money.withdraw(new WithdrawRequest().amount(500L), null, asAlice);
        assertThat(withdrawal.getSeq()).isEqualTo(transfer.getSeq() + 1);
        assertThat(withdrawal.getBalance()).isEqualTo(OPENING_BALANCE - 2500 - 500);

        // The statement, newest first, and the account, read once the withdrawal is applied.
        TransactionsResponse statement = accounts.listTransactions(null, null, withdrawal.getSeq(), asAlice);
        assertThat(statement.getTransactions()).extracting(Transaction::getSeq, Transaction::getType,
                        Transaction::getAmount, Transaction::getCounterpartyAccountNumber, Transaction::getBalanceAfter)
                .containsExactly(
                        tuple(withdrawal.getSeq(), Transaction.TypeEnum.WITHDRAWAL,
                                500L, null, OPENING_BALANCE - 3000),
                        tuple(transfer.getSeq(), Transaction.TypeEnum.TRANSFER_OUT,
                                2500L, bob, OPENING_BALANCE - 2500));
        assertThat(statement.getNextBeforeSeq()).isNull();
        AccountResponse account = accounts.getAccount(withdrawal.getSeq(), asAlice);
        assertThat(account.getAccountNumber()).isEqualTo(alice);
        assertThat(account.getEmail()).isEqualTo("alice@example.com");
        assertThat(account.getVerified()).isTrue();
        assertThat(account.getBalance()).isEqualTo(OPENING_BALANCE - 3000);

        // Batches: all or none, and each on its own (a refused one answers its error in place).
        BatchTransferResponse atomic = money.transferMoneyBatch(new BatchTransferRequest().atomic(true).transfers(
                List.of(new TransferRequest().toAccountNumber(bob).amount(100L),
                        new TransferRequest().toAccountNumber(bob).amount(200L))), null, asAlice);
        assertThat(atomic.getResults()).extracting(r -> r.getSeq())
                .containsExactly(withdrawal.getSeq() + 1, withdrawal.getSeq() + 2);
        assertThat(atomic.getBalance()).isEqualTo(OPENING_BALANCE - 3300);
        BatchTransferResponse each = money.transferMoneyBatch(new BatchTransferRequest().atomic(false).transfers(
                List.of(new TransferRequest().toAccountNumber(bob).amount(700L),
                        new TransferRequest().toAccountNumber(bob).amount(1_000_000L))), null, asAlice);
        assertThat(each.getResults().get(0).getSeq()).isEqualTo(withdrawal.getSeq() + 3);
        assertThat(each.getResults().get(0).getError()).isNull();
        assertThat(each.getResults().get(1).getSeq()).isNull();
        assertThat(each.getResults().get(1).getError()).isEqualTo(ErrorCode.INSUFFICIENT_FUNDS);
        assertThat(each.getBalance()).isEqualTo(OPENING_BALANCE - 4000);
        long lastSeq = withdrawal.getSeq() + 3;

        // What the key recorded: the transfer, with the reply its retry got.
        OperationResponse operation = money.getOperation("rent-2026-11", lastSeq, asAlice);
        TransferOperation recorded = operation.getTransferOperation();
        assertThat(recorded.getIdempotencyKey()).isEqualTo("rent-2026-11");
        assertThat(recorded.getRoute()).isEqualTo(TransferOperation.RouteEnum.POST_API_MONEY_TRANSFER);
        assertThat(recorded.getSeq()).isEqualTo(transfer.getSeq());
        assertThat(recorded.getStatus()).isEqualTo(200);
        assertThat(recorded.getResponse()).isEqualTo(transfer);
        assertThatThrownBy(() -> money.getOperation("never-used", null, asAlice))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(404));

        HealthResponse health = new OperationsApi(client).health();
        assertThat(health.getStatus()).isEqualTo(HealthResponse.StatusEnum.OK);
        assertThat(health.getLastSeq()).isEqualTo(lastSeq);

        operatorRoutes(alice, bob, transfer, lastSeq);
    }

    /** The event explorer and a what-if, with the operator key; without it, 401. */
    private static void operatorRoutes(String alice, String bob, TransferResponse transfer, long lastSeq)
            throws ApiException {
        AdminApi admin = new AdminApi(client);
        Map<String, String> asOperator = Map.of("X-Operator-Key", ServerProcess.OPERATOR_KEY);
        EventsResponse events = admin.listEvents(null, null, "MoneyTransferred", alice, null, null, 1, asOperator);
        assertThat(events.getEvents()).hasSize(1);
        EventLine line = events.getEvents().get(0);
        assertThat(line.getSeq()).isEqualTo(transfer.getSeq());
        assertThat(line.getType()).isEqualTo(EventLine.TypeEnum.MONEY_TRANSFERRED);
        assertThat(line.getData()).asInstanceOf(InstanceOfAssertFactories.MAP)
                .containsEntry("from_account_number", alice).containsEntry("to_account_number", bob)
                .containsEntry("amount", 2500);
        assertThat(events.getNextAfterSeq()).isEqualTo(transfer.getSeq());
        assertThatThrownBy(() -> admin.listEvents(null, null, null, null, null, null, 1, Map.of()))
                .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.getCode()).isEqualTo(401));

        // Without the rent, and with Bob withdrawing $10.00 at the end: Alice 2500 richer, Bob 3500 poorer.
        WhatIfResponse whatIf = admin.whatIf(new WhatIfRequest()
                .excludeSeqs(List.of(transfer.getSeq()))
                .commands(List.of(new WhatIfCommand(new WhatIfWithdrawCommand().afterSeq(lastSeq)
                        .type(WhatIfWithdrawCommand.TypeEnum.WITHDRAW).accountNumber(bob).amount(1000L)))),
                asOperator);
        assertThat(whatIf.getBranchSeq()).isEqualTo(transfer.getSeq() - 1);
        assertThat(whatIf.getUntilSeq()).isEqualTo(lastSeq);
        assertThat(whatIf.getRejected()).isEmpty();
        assertThat(whatIf.getCommands()).extracting(WhatIfCommandOutcome::getIndex, WhatIfCommandOutcome::getAccepted)
                .containsExactly(tuple(0, true));
        assertThat(whatIf.getBalanceDifferences())
                .extracting(WhatIfDifference::getAccountNumber, WhatIfDifference::getDifference)
                .containsExactly(tuple(alice, 2500L),
                        tuple(bob, -3500L));
    }

    /** Opens an account and follows the link mailed to it, as its holder would. */
    private static String openAndVerify(AccountsApi accounts, String email, String password) throws Exception {
        OpenAccountResponse opened = accounts.openAccount(
                new OpenAccountRequest().email(email).password(password), null);
        assertThat(opened.getAccountNumber()).matches("[1-9][0-9]{15}");
        VerifyResponse verified = accounts.verifyAccount(opened.getAccountNumber(),
                server.verificationCode(opened.getAccountNumber()));
        assertThat(verified.getAccountNumber()).isEqualTo(opened.getAccountNumber());
        assertThat(verified.getVerified()).isTrue();
        assertThat(verified.getSeq()).isGreaterThan(opened.getSeq());
        return opened.getAccountNumber();
    }

    private static Map<String, String> bearer(String token) {
        return Map.of("Authorization", "Bearer " + token);
    }
}
