// Which certificates does Java trust "as they are" with a keystore? Java's own answer, for the
// anchor-agreement test: the anchor set is sun.security.validator.TrustStoreUtil
// .getTrustedCerts (what the default TrustManagerFactory uses), and a certificate counts when
// that set holds it, or holds one with an equal subject (X500Principal.equals) and an equal
// public key (PKIXValidator's "trustedSubjects").
//
// java --add-opens java.base/sun.security.validator=ALL-UNNAMED AnchorJudge.java \
//      CA_LIST_FILE KEYSTORE PASSWORD [KEYSTORE PASSWORD ...]
// PASSWORD "-" means none. Prints: keystore TAB ca-file TAB exact|name-key|none
//
// java AnchorJudge.java make OUT.jks TRUSTED.pem CHAIN.pem: writes a JKS (password changeit)
// with TRUSTED as a trustedCertEntry and a PrivateKeyEntry (a fresh EC key) whose chain is
// the certificate of CHAIN.pem: its first certificate is an anchor too.
import java.io.File;
import java.io.FileInputStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

public class AnchorJudge {
    public static void main(String[] args) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        if (args[0].equals("make")) {
            KeyStore ks = KeyStore.getInstance("JKS");
            ks.load(null, null);
            try (FileInputStream in = new FileInputStream(args[2])) {
                ks.setCertificateEntry("reissued", cf.generateCertificate(in));
            }
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            try (FileInputStream in = new FileInputStream(args[3])) {
                ks.setKeyEntry("server", g.generateKeyPair().getPrivate(), "changeit".toCharArray(),
                        new java.security.cert.Certificate[] {cf.generateCertificate(in)});
            }
            try (java.io.FileOutputStream out = new java.io.FileOutputStream(args[1])) {
                ks.store(out, "changeit".toCharArray());
            }
            return;
        }
        List<String> files = Files.readAllLines(Path.of(args[0]));
        List<X509Certificate> cas = new ArrayList<>();
        for (String f : files) {
            try (FileInputStream in = new FileInputStream(f)) {
                cas.add((X509Certificate) cf.generateCertificate(in));
            }
        }
        Method trustedCerts = Class.forName("sun.security.validator.TrustStoreUtil")
                .getDeclaredMethod("getTrustedCerts", KeyStore.class);
        trustedCerts.setAccessible(true);
        for (int i = 1; i + 1 < args.length; i += 2) {
            char[] pw = args[i + 1].equals("-") ? null : args[i + 1].toCharArray();
            KeyStore ks = KeyStore.getInstance(new File(args[i]), pw);
            @SuppressWarnings("unchecked")
            Set<X509Certificate> trusted = (Set<X509Certificate>) trustedCerts.invoke(null, ks);
            for (int c = 0; c < cas.size(); c++) {
                X509Certificate ca = cas.get(c);
                String how = "none";
                if (trusted.contains(ca)) {
                    how = "exact";
                } else {
                    for (X509Certificate t : trusted) {
                        if (t.getSubjectX500Principal().equals(ca.getSubjectX500Principal())
                                && t.getPublicKey().equals(ca.getPublicKey())) {
                            how = "name-key";
                            break;
                        }
                    }
                }
                System.out.println(args[i] + "\t" + files.get(c) + "\t" + how);
            }
        }
    }
}
