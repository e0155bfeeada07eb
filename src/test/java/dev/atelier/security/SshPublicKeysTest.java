package dev.atelier.security;

import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.RSAKeyPairGenerator;
import org.bouncycastle.crypto.params.DSAParameters;
import org.bouncycastle.crypto.params.DSAPublicKeyParameters;
import org.bouncycastle.crypto.params.RSAKeyGenerationParameters;
import org.bouncycastle.crypto.util.OpenSSHPublicKeyUtil;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SshPublicKeysTest {

    @Test
    void anEd25519KeyIsReadWithOpenSshsFingerprintAndWithoutItsComment() throws Exception {
        String line = OidcEngine.ed25519PublicKey();
        byte[] blob = Base64.getDecoder().decode(line.split(" ")[1]);
        SshPublicKeys.SshPublicKey key = SshPublicKeys.parse(line);
        assertThat(key.type()).isEqualTo("ssh-ed25519");
        assertThat(key.bits()).isEqualTo(256);
        assertThat(key.fingerprint()).isEqualTo("SHA256:" + Base64.getEncoder().withoutPadding()
                .encodeToString(MessageDigest.getInstance("SHA-256").digest(blob)));
        assertThat(key.publicKey()).isEqualTo(line.substring(0, line.lastIndexOf(' '))).doesNotContain("laptop");
    }

    @Test
    void rsaKeysNeedAtLeast2048Bits() throws Exception {
        assertThat(SshPublicKeys.parse(rsa(2048)).bits()).isEqualTo(2048);
        assertThatThrownBy(() -> SshPublicKeys.parse(rsa(1024))).hasMessageContaining("2048 to 16384 bits")
                .hasMessageContaining("has 1024");
    }

    @Test
    void dsaKeysWrongTypesAndGarbageAreRefusedWithoutEchoingTheKey() throws Exception {
        DSAParameters params = new DSAParameters(BigInteger.valueOf(23), BigInteger.valueOf(11), BigInteger.valueOf(4));
        String dsa = "ssh-dss " + Base64.getEncoder().encodeToString(OpenSSHPublicKeyUtil.encodePublicKey(
                new DSAPublicKeyParameters(BigInteger.valueOf(8), params)));
        assertThatThrownBy(() -> SshPublicKeys.parse(dsa)).hasMessageContaining("DSA keys");
        String ed = OidcEngine.ed25519PublicKey();
        String blob = ed.split(" ")[1];
        assertThatThrownBy(() -> SshPublicKeys.parse("ssh-rsa " + blob)).hasMessageContaining("does not match");
        assertThatThrownBy(() -> SshPublicKeys.parse("ssh-ed25519 not-base64!")).hasMessageContaining("base64")
                .hasMessageNotContaining("not-base64");
        assertThatThrownBy(() -> SshPublicKeys.parse("ssh-ed25519 " + Base64.getEncoder().encodeToString(new byte[]{1, 2})))
                .hasMessageContaining("could not be read");
        byte[] longer = Base64.getDecoder().decode(blob);
        byte[] padded = java.util.Arrays.copyOf(longer, longer.length + 4);
        assertThatThrownBy(() -> SshPublicKeys.parse("ssh-ed25519 " + Base64.getEncoder().encodeToString(padded)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SshPublicKeys.parse("just-one-word")).hasMessageContaining("type and the base64 key");
    }

    private static String rsa(int bits) throws Exception {
        RSAKeyPairGenerator generator = new RSAKeyPairGenerator();
        generator.init(new RSAKeyGenerationParameters(BigInteger.valueOf(65537), new SecureRandom(), bits, 80));
        AsymmetricCipherKeyPair pair = generator.generateKeyPair();
        return "ssh-rsa " + Base64.getEncoder().encodeToString(OpenSSHPublicKeyUtil.encodePublicKey(pair.getPublic()));
    }
}
