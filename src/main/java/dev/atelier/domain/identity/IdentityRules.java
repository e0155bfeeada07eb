package dev.atelier.domain.identity;

import dev.atelier.domain.shared.DomainRuleViolation;

import java.util.Collection;
import java.util.regex.Pattern;

/**
 * Input rules for users and teams. User ids are the identity provider's {@code sub} (or an owner's choice) and end up
 * as workspace owners, SSH user names and audit actors; team names end up in workspaces, budgets and cost reports.
 * Messages name the field, never echo the value.
 */
public final class IdentityRules {

    /** Letters, digits and {@code . _ @ | : + -}: what common providers put in {@code sub} (UUIDs, e-mails, auth0|id). */
    public static final Pattern USER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@|:+-]{0,99}");
    public static final Pattern TEAM_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,99}");
    static final int MAX_NAME = 200;
    static final int MAX_EMAIL = 254;
    static final int MAX_TEAMS = 200;
    static final int MAX_DESCRIPTION = 500;

    private IdentityRules() {
    }

    public static boolean validUserId(String id) {
        return id != null && USER_ID.matcher(id).matches();
    }

    public static boolean validTeamName(String name) {
        return name != null && TEAM_NAME.matcher(name).matches();
    }

    static void requireUserId(String id) {
        if (!validUserId(id)) {
            throw DomainRuleViolation.invalid("a user id is 1-100 letters, digits or . _ @ | : + -, starting with a "
                    + "letter or digit");
        }
    }

    static void requireTeamName(String name) {
        if (!validTeamName(name)) {
            throw DomainRuleViolation.invalid("a team name is 1-100 letters, digits or . _ @ -, starting with a "
                    + "letter or digit");
        }
    }

    static void requireProfile(String name, String email) {
        if (name != null && name.length() > MAX_NAME) {
            throw DomainRuleViolation.invalid("'name' is longer than " + MAX_NAME + " characters");
        }
        if (email != null && (email.length() > MAX_EMAIL || !email.contains("@"))) {
            throw DomainRuleViolation.invalid("'email' is not an e-mail address of at most " + MAX_EMAIL + " characters");
        }
    }

    static void requireTeams(Collection<String> teams) {
        if (teams.size() > MAX_TEAMS) {
            throw DomainRuleViolation.invalid("a user can be in at most " + MAX_TEAMS + " teams");
        }
        teams.forEach(IdentityRules::requireTeamName);
    }
}
