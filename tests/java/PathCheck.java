// Does a real JVM trust these CA certificates with this keystore as its anchors?
// java PathCheck.java KEYSTORE STOREPASS|- CERT.pem...
// Prints "TRUSTED <file>" or "REJECTED <file>: <reason>" per certificate (each validated as a
// one-certificate path with CertPathValidator PKIX, revocation off, at the current date).
import java.io.File;
import java.io.FileInputStream;
import java.security.KeyStore;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.X509Certificate;
import java.util.List;

public class PathCheck {
    public static void main(String[] args) throws Exception {
        char[] pass = args[1].equals("-") ? null : args[1].toCharArray();
        KeyStore ks = KeyStore.getInstance(new File(args[0]), pass);
        PKIXParameters params = new PKIXParameters(ks);
        params.setRevocationEnabled(false);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        CertPathValidator validator = CertPathValidator.getInstance("PKIX");
        for (int i = 2; i < args.length; i++) {
            X509Certificate cert;
            try (FileInputStream in = new FileInputStream(args[i])) {
                cert = (X509Certificate) cf.generateCertificate(in);
            }
            CertPath path = cf.generateCertPath(List.of(cert));
            try {
                validator.validate(path, params);
                System.out.println("TRUSTED " + args[i]);
            } catch (Exception e) {
                System.out.println("REJECTED " + args[i] + ": " + e.getMessage());
            }
        }
    }
}
