package eventbank.server.http;

/**
 * The page a browser gets when it follows the mailed verification link ({@code GET /api/verify}):
 * built here rather than by the app's scripts, because the link's URL holds the code and the
 * page runs no script at all ({@link SecurityHeaders#POLICY_LANDING_PAGE}). It wears the app's
 * style sheet and leads on to the app's login, with the account number filled in.
 */
final class LandingPage {
    private LandingPage() {}

    static String verified(long accountNumber, boolean already) {
        return page(already ? "Already verified" : "Email address confirmed",
                "<p>Account <strong class=\"account-number\">" + accountNumber + "</strong> is verified."
                        + " You can log in and move money now.</p>"
                        + "<p><a class=\"button\" href=\"/#login?account=" + accountNumber + "\">Log in</a></p>");
    }

    /** The link did not verify the account: the API's message, and the ways on. */
    static String refused(String message) {
        return page("This link did not confirm an address",
                "<p class=\"error-box\" role=\"alert\">" + escape(message) + "</p>"
                        + "<p>Check that you opened the whole link from the mail. You can ask for a new"
                        + " link, or log in if your address is already confirmed.</p>"
                        + "<p class=\"row\"><a class=\"button\" href=\"/#resend\">Send a new link</a>"
                        + " <a class=\"button secondary\" href=\"/#login\">Log in</a></p>");
    }

    private static String page(String title, String body) {
        return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                + "<title>" + title + " · eventbank</title>"
                + "<link rel=\"icon\" href=\"/web/app-icon.svg\" type=\"image/svg+xml\">"
                + "<link rel=\"stylesheet\" href=\"/web/base.css\"></head><body>"
                + "<header class=\"site\"><a class=\"brand\" href=\"/\">eventbank</a></header>"
                + "<main class=\"card\"><h1>" + title + "</h1>" + body + "</main></body></html>";
    }

    static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
