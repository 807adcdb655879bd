// Parses an XML file with the JDK's parser (which honours a byte-order mark and the
// declared encoding, as Windows' Task Scheduler does) and prints what the test compares:
// java XmlCheck.java FILE
// Prints "encoding <input encoding> declared <xml declaration encoding>", "root {ns}name",
// then "<element> <text>" for every element that holds only text, in document order.
import java.io.File;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

public class XmlCheck {
    public static void main(String[] args) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        Document doc = f.newDocumentBuilder().parse(new File(args[0]));
        System.out.println("encoding " + doc.getInputEncoding() + " declared " + doc.getXmlEncoding());
        Element root = doc.getDocumentElement();
        System.out.println("root {" + root.getNamespaceURI() + "}" + root.getLocalName());
        NodeList all = doc.getElementsByTagName("*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            boolean textOnly = e.hasChildNodes();
            for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling()) {
                if (c.getNodeType() != Node.TEXT_NODE) textOnly = false;
            }
            if (textOnly) System.out.println(e.getLocalName() + " " + e.getTextContent());
        }
    }
}
