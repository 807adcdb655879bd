// The one-JVM importer of scripts/bench.py: what a careful admin script could do with the
// KeyStore API instead of one keytool per CA. Loads the keystore once, adds each PEM as a
// trusted certificate, stores once.
//
// java BatchImport KEYSTORE PASSWORD PEM...
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.File;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;

public class BatchImport {
    public static void main(String[] args) throws Exception {
        char[] pw = args[1].toCharArray();
        KeyStore ks = KeyStore.getInstance(new File(args[0]), pw);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (int i = 2; i < args.length; i++) {
            try (FileInputStream in = new FileInputStream(args[i])) {
                Certificate c = cf.generateCertificate(in);
                if (ks.getCertificateAlias(c) == null) {
                    ks.setCertificateEntry("bench-" + (i - 2), c);
                }
            }
        }
        try (FileOutputStream out = new FileOutputStream(args[0])) {
            ks.store(out, pw);
            out.getFD().sync();
        }
    }
}
