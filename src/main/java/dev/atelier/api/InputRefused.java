package dev.atelier.api;

/**
 * Input refused at the API's boundary (a control character, an unpaired surrogate, a value too long). The message
 * names the field and never holds the value; answered with 400.
 */
public class InputRefused extends RuntimeException {

    public InputRefused(String message) {
        super(message, null, false, false);
    }
}
