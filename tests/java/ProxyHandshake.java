// A real JSSE TLS handshake through an HTTP CONNECT proxy, with a keystore as the truststore.
//
//   java ProxyHandshake.java KEYSTORE STOREPASS|- PROXYHOST PROXYPORT HOST PORT
//
// Tunnels with CONNECT HOST:PORT (the target is never resolved here: only the proxy knows it),
// then shakes hands with HTTPS endpoint identification, as HttpsURLConnection does.
// Prints "TRUSTED" or "REJECTED <exception>"; exit 0 either way, 2 on a usage or tunnel error.
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class ProxyHandshake {
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: java ProxyHandshake.java KEYSTORE STOREPASS|- PROXYHOST PROXYPORT HOST PORT");
            System.exit(2);
        }
        char[] pw = args[1].equals("-") ? null : args[1].toCharArray();
        KeyStore ks = KeyStore.getInstance(new File(args[0]), pw);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);

        String host = args[4];
        int port = Integer.parseInt(args[5]);
        Socket raw = new Socket(args[2], Integer.parseInt(args[3]));
        raw.setSoTimeout(20_000);
        OutputStream out = raw.getOutputStream();
        out.write(("CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = raw.getInputStream();
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0 || head.size() > 8192) {
                System.err.println("the proxy closed the tunnel: " + head);
                System.exit(2);
            }
            head.write(b);
        }
        if (!head.toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200")) {
            System.err.println("the proxy refused the tunnel: " + head);
            System.exit(2);
        }
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, host, port, true)) {
            SSLParameters p = s.getSSLParameters();
            p.setEndpointIdentificationAlgorithm("HTTPS");
            s.setSSLParameters(p);
            s.startHandshake();
            System.out.println("TRUSTED");
        } catch (Exception e) {
            System.out.println("REJECTED " + e.toString().replace('\n', ' '));
        }
    }
}
