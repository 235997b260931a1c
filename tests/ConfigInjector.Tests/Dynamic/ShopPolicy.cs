namespace ConfigInjector.Tests.Dynamic;

/// <summary>The SecretPolicy the dynamic tests share: namespace shop may use vault-prod's database/creds/shop as dynamic.</summary>
internal static class ShopPolicy
{
    public const string Dynamic = """
        apiVersion: configinjector.io/v1alpha1
        kind: SecretPolicy
        metadata: { name: shop }
        spec:
          subjects: { namespaces: [shop] }
          rules:
            - backend: vault-prod
              paths: ["database/creds/shop"]
              dynamic: true

        """;
}
