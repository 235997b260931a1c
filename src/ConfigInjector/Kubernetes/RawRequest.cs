using ConfigInjector.Sync;
using k8s;

namespace ConfigInjector.Kubernetes;

/// <summary>
/// A request the typed client cannot make in its AOT build (a watch, a custom resource read or written as JSON), sent
/// through the client's own HttpClient and credentials, so TLS, tokens and exec plugins are the client's. The answer's
/// headers are in; a status other than 2xx is a <see cref="ClusterApiException"/>.
/// </summary>
internal static class RawRequest
{
    public static Task<HttpResponseMessage> SendAsync(IKubernetes client, string pathAndQuery, string verb, string resource, CancellationToken cancellationToken) =>
        SendAsync(client, HttpMethod.Get, pathAndQuery, null, verb, resource, cancellationToken);

    /// <param name="json">The body, sent as application/json; null for none.</param>
    public static async Task<HttpResponseMessage> SendAsync(IKubernetes client, HttpMethod method, string pathAndQuery, string? json, string verb, string resource, CancellationToken cancellationToken)
    {
        var http = client as k8s.Kubernetes ?? throw new NotSupportedException("a raw request needs the HTTP client of k8s.Kubernetes");
        using var request = new HttpRequestMessage(method, new Uri($"{http.BaseUri.AbsoluteUri.TrimEnd('/')}/{pathAndQuery}"));
        if (json is not null)
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            if (http.Credentials is { } credentials)
                await credentials.ProcessHttpRequestAsync(request, cancellationToken);
            response = await http.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new ClusterApiException(null, KubernetesErrors.Describe(null, e.Message, verb, resource, null), e);
        }
        if (response.IsSuccessStatusCode)
            return response;
        response.Dispose();
        throw new ClusterApiException(response.StatusCode, KubernetesErrors.Describe(response.StatusCode, null, verb, resource, null));
    }
}
