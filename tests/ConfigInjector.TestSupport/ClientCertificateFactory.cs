using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ConfigInjector.TestSupport;

/// <summary>Client certificates (clientAuth) issued by a test CA, as an API server or a person would present them.</summary>
public static class ClientCertificateFactory
{
    public static X509Certificate2 Issue(X509Certificate2 authority, string commonName, params string[] dnsNames) =>
        Issue(authority, new X500DistinguishedName($"CN={commonName}"), dnsNames);

    public static X509Certificate2 Issue(X509Certificate2 authority, X500DistinguishedName subject, params string[] dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (dnsNames.Length > 0)
        {
            var names = new SubjectAlternativeNameBuilder();
            foreach (var name in dnsNames)
                names.AddDnsName(name);
            request.CertificateExtensions.Add(names.Build());
        }
        using var signed = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1), RandomNumberGenerator.GetBytes(8));
        // A PKCS#12 round trip gives SslStream a certificate whose key it can use on every platform.
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A subject of one multi-valued RDN, e.g. <c>CN=alice+O=security</c> (RFC 5280: a SET OF AttributeTypeAndValue).</summary>
    public static X500DistinguishedName MultiValued(params (string Oid, string Value)[] attributes)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSetOf())
        {
            foreach (var (oid, value) in attributes)
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(oid);
                    writer.WriteCharacterString(UniversalTagNumber.UTF8String, value);
                }
            }
        }
        return new X500DistinguishedName(writer.Encode());
    }

    public const string CommonName = "2.5.4.3";
    public const string Organization = "2.5.4.10";
}
