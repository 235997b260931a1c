using System.Net;
using System.Net.Sockets;

namespace ConfigInjector.TestSupport;

/// <summary>A loopback port free at the moment of asking, for a process that must be told its port up front.</summary>
public static class LoopbackPort
{
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
