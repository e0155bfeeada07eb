package dev.atelier.cli;

import picocli.CommandLine.Command;

/** Forgets the saved credentials (the API token itself stays valid until revoked: DELETE /api/v1/tokens/{id}). */
@Command(name = "logout", description = "Forget the saved credentials (~/.config/atelier/credentials).")
final class LogoutCommand extends AtelierCommand {

    @Override
    int execute() {
        boolean had = Credentials.delete(env());
        out().line(had ? "Signed out (the token itself stays valid until it is revoked)." : "Not signed in.");
        return ExitCodes.OK;
    }
}
