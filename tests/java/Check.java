// Loads a keystore the way the JSSE default truststore does (no password: KeyStore.load(in, null))
// and lists the anchors a PKIX TrustManagerFactory accepts.
//
//   java Check.java FILE [--type PKCS12] [--storepass PW] SHA256...
//
// Prints "anchor <SHA-256> <subject>" for every accepted issuer, then "missing <SHA-256>" for
// each expected fingerprint that is not among them. Exit 0 when none is missing, 1 otherwise,
// 2 on a usage or load error.

import java.io.FileInputStream;
import java.io.InputStream;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

public class Check {
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: java Check.java FILE [--type T] [--storepass PW] SHA256...");
            System.exit(2);
        }
        String file = args[0];
        String type = "PKCS12";
        char[] password = null;
        List<String> expected = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--type" -> type = args[++i];
                case "--storepass" -> password = args[++i].toCharArray();
                default -> expected.add(args[i].replace(":", "").toUpperCase());
            }
        }
        KeyStore ks = KeyStore.getInstance(type);
        try (InputStream in = new FileInputStream(file)) {
            ks.load(in, password);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        Set<String> seen = new TreeSet<>();
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                for (X509Certificate c : x.getAcceptedIssuers()) {
                    byte[] d = MessageDigest.getInstance("SHA-256").digest(c.getEncoded());
                    String hex = HexFormat.of().withUpperCase().formatHex(d);
                    seen.add(hex);
                    System.out.println("anchor " + hex + " " + c.getSubjectX500Principal().getName());
                }
            }
        }
        int missing = 0;
        for (String e : expected) {
            if (!seen.contains(e)) {
                System.out.println("missing " + e);
                missing++;
            }
        }
        System.exit(missing == 0 ? 0 : 1);
    }
}
