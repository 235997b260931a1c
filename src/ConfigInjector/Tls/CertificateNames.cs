using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace ConfigInjector.Tls;

/// <summary>The names a client certificate carries: the common names of its subject and its DNS subject alternative names.</summary>
internal static class CertificateNames
{
    private const string CommonNameOid = "2.5.4.3";

    /// <summary>
    /// Every CN of the subject, also those inside a multi-valued RDN such as <c>CN=a+O=b</c> (the framework's
    /// single-element accessors throw on those, and GetNameInfo falls back to other fields when there is no CN).
    /// </summary>
    public static IReadOnlyList<string> CommonNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var rdn in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!rdn.HasMultipleElements)
            {
                if (rdn.GetSingleElementType().Value == CommonNameOid && rdn.GetSingleElementValue() is { } value)
                    names.Add(value);
                continue;
            }
            names.AddRange(MultiValuedCommonNames(rdn.RawData));
        }
        return names;
    }

    public static IReadOnlyList<string> DnsNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateDnsNames()).ToList();

    /// <summary>True when a CN or a DNS name of the certificate is one of <paramref name="names"/> (exactly).</summary>
    public static bool AnyIn(X509Certificate2 certificate, IReadOnlySet<string> names) =>
        CommonNames(certificate).Any(names.Contains) || DnsNames(certificate).Any(names.Contains);

    /// <summary>RelativeDistinguishedName ::= SET OF AttributeTypeAndValue (RFC 5280 4.1.2.4).</summary>
    private static List<string> MultiValuedCommonNames(ReadOnlyMemory<byte> rdn)
    {
        var names = new List<string>();
        try
        {
            var set = new AsnReader(rdn, AsnEncodingRules.DER).ReadSetOf(skipSortOrderValidation: true);
            while (set.HasData)
            {
                var attribute = set.ReadSequence();
                var type = attribute.ReadObjectIdentifier();
                var tag = attribute.PeekTag();
                if (type == CommonNameOid && tag.TagClass == TagClass.Universal)
                    names.Add(attribute.ReadCharacterString((UniversalTagNumber)tag.TagValue));
            }
        }
        catch (Exception e) when (e is AsnContentException or ArgumentException)
        {
            // A CN in an encoding that is not a character string names nothing we could match.
        }
        return names;
    }
}
