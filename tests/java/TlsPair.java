// A JSSE TLS server and a JSSE client of it, in one JVM: does Java complete the handshake with
// this server key and chain, and trust the chain?
//
//   java TlsPair.java KEY.pk8 CHAIN.pem TRUSTSTORE STOREPASS
//
// KEY.pk8 is the server's private key (PKCS#8 DER), CHAIN.pem its chain, leaf first. The server
// listens on 127.0.0.1 and serves every connection until standard input closes (so that another
// client, azure-cacerts check, can connect too). Prints "PORT <n>", then the client's result:
// "CLIENT TRUSTED <protocol>" or "CLIENT REJECTED <exception>".
import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class TlsPair {
    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: java TlsPair.java KEY.pk8 CHAIN.pem TRUSTSTORE STOREPASS");
            System.exit(2);
        }
        byte[] keyDer = Files.readAllBytes(Path.of(args[0]));
        Certificate[] chain;
        try (FileInputStream in = new FileInputStream(args[1])) {
            Collection<? extends Certificate> c = CertificateFactory.getInstance("X.509").generateCertificates(in);
            chain = c.toArray(new Certificate[0]);
        }
        String alg = chain[0].getPublicKey().getAlgorithm();
        PrivateKey key = KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(keyDer));
        char[] pw = "changeit".toCharArray();
        KeyStore serverKs = KeyStore.getInstance("PKCS12");
        serverKs.load(null, null);
        serverKs.setKeyEntry("server", key, pw, chain);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("SunX509");
        kmf.init(serverKs, pw);
        SSLContext serverCtx = SSLContext.getInstance("TLS");
        serverCtx.init(kmf.getKeyManagers(), null, null);
        SSLServerSocket server = (SSLServerSocket) serverCtx.getServerSocketFactory()
            .createServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread accept = new Thread(() -> {
            while (true) {
                try {
                    SSLSocket s = (SSLSocket) server.accept();
                    new Thread(() -> {
                        try (s) {
                            s.setSoTimeout(20000);
                            s.startHandshake();
                            InputStream in = s.getInputStream();
                            while (in.read() >= 0) { }
                        } catch (Exception e) {
                            // The client went away or refused us: nothing to serve.
                        }
                    }).start();
                } catch (Exception e) {
                    return;
                }
            }
        });
        accept.setDaemon(true);
        accept.start();
        System.out.println("PORT " + server.getLocalPort());
        System.out.flush();

        char[] tpw = args[3].equals("-") ? null : args[3].toCharArray();
        KeyStore trust = KeyStore.getInstance(new File(args[2]), tpw);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext clientCtx = SSLContext.getInstance("TLS");
        clientCtx.init(null, tmf.getTrustManagers(), null);
        String result;
        try (SSLSocket c = (SSLSocket) clientCtx.getSocketFactory().createSocket("127.0.0.1", server.getLocalPort())) {
            SSLParameters p = c.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            c.setSSLParameters(p);
            c.startHandshake();
            result = "CLIENT TRUSTED " + c.getSession().getProtocol();
        } catch (Exception e) {
            result = "CLIENT REJECTED " + e.toString().replace('\n', ' ');
        }
        System.out.println(result);
        System.out.flush();
        // Serve on until the caller is done.
        while (System.in.read() >= 0) { }
        System.exit(0);
    }
}
