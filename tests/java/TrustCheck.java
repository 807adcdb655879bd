// Would a real JVM's TLS client trust this server chain with this keystore as its truststore?
//
//   java TrustCheck.java KEYSTORE STOREPASS|- CHAIN.pem [KEYSTORE STOREPASS|- CHAIN.pem]...
//
// Each triple is judged the way JSSE judges a server: the default PKIX TrustManagerFactory is
// initialised with the keystore and checkServerTrusted(chain, "UNKNOWN") is called ("UNKNOWN"
// is the authType JSSE passes for TLS 1.3; like ECDHE_RSA and ECDHE_ECDSA it requires a
// digitalSignature key usage). Several triples share one JVM start.
// Prints one line per triple: "<CHAIN.pem> TRUSTED" or "<CHAIN.pem> REJECTED <exception>".
import java.io.File;
import java.io.FileInputStream;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

public class TrustCheck {
    public static void main(String[] args) {
        if (args.length == 0 || args.length % 3 != 0) {
            System.err.println("usage: java TrustCheck.java KEYSTORE STOREPASS|- CHAIN.pem ...");
            System.exit(2);
        }
        for (int i = 0; i < args.length; i += 3) {
            String verdict;
            try {
                verdict = check(args[i], args[i + 1], args[i + 2]);
            } catch (Exception e) {
                // An empty truststore fails with a RuntimeException: that is a rejection too.
                verdict = "REJECTED " + e.toString().replace('\n', ' ');
            }
            System.out.println(args[i + 2] + " " + verdict);
        }
    }

    static String check(String keystore, String pass, String chainFile) throws Exception {
        char[] pw = pass.equals("-") ? null : pass.toCharArray();
        KeyStore ks = KeyStore.getInstance(new File(keystore), pw);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        X509TrustManager tm = null;
        for (TrustManager t : tmf.getTrustManagers()) {
            if (t instanceof X509TrustManager) {
                tm = (X509TrustManager) t;
            }
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        Collection<? extends Certificate> certs;
        try (FileInputStream in = new FileInputStream(chainFile)) {
            certs = cf.generateCertificates(in);
        }
        X509Certificate[] chain = certs.toArray(new X509Certificate[0]);
        tm.checkServerTrusted(chain, "UNKNOWN");
        return "TRUSTED";
    }
}
