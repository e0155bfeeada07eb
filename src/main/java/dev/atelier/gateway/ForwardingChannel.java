package dev.atelier.gateway;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.WorkspaceShell;
import org.apache.sshd.client.future.DefaultOpenFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.channel.Channel;
import org.apache.sshd.common.channel.ChannelFactory;
import org.apache.sshd.common.channel.ChannelOutputStream;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.channel.exception.SshChannelOpenException;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.AbstractServerChannel;
import org.apache.sshd.server.session.ServerSession;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;

/**
 * A {@code direct-tcpip} channel ({@code ssh -L 3000:localhost:3000 ws}): the connection is made inside the
 * workspace by its provider ({@link WorkspaceShell#connect}), so {@code localhost} is the workspace, never the engine
 * host. Only sessions admitted to a running workspace may open one.
 */
final class ForwardingChannel extends AbstractServerChannel {

    private final GatewaySessions sessions;
    private final Function<String, WorkspaceShell> shells;
    /** The workspace as the engine knows it now (connection info, reported host keys), for the provider. */
    private final Function<Admission, WorkspaceShell.Target> targets;
    private final ExecutorService pumps;
    private volatile WorkspaceShell.ShellProcess connection;
    private volatile OutputStream toClient;

    ForwardingChannel(GatewaySessions sessions, Function<String, WorkspaceShell> shells,
                     Function<Admission, WorkspaceShell.Target> targets, ExecutorService pumps) {
        super("", List.of(), null);
        this.sessions = sessions;
        this.shells = shells;
        this.targets = targets;
        this.pumps = pumps;
    }

    /** Makes one channel per {@code direct-tcpip} request. */
    record Factory(GatewaySessions sessions, Function<String, WorkspaceShell> shells,
                     Function<Admission, WorkspaceShell.Target> targets, ExecutorService pumps)
            implements ChannelFactory {
        @Override
        public String getName() {
            return "direct-tcpip";
        }

        @Override
        public Channel createChannel(Session session) {
            return new ForwardingChannel(sessions, shells, targets, pumps);
        }
    }

    @Override
    protected OpenFuture doInit(Buffer buffer) {
        String host = buffer.getString();
        int port = buffer.getInt();
        OpenFuture f = new DefaultOpenFuture(this, this);
        ServerSession session = (ServerSession) getSession();
        GatewaySessions.Open open = sessions.of(session).orElse(null);
        if (open == null || open.refusal() != null) {
            f.setException(new SshChannelOpenException(getChannelId(), SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                    open == null ? "not admitted" : open.refusal()));
            return f;
        }
        WorkspaceShell shell = shells.apply(open.admission().provider());
        if (shell == null) {
            f.setException(new SshChannelOpenException(getChannelId(), SshConstants.SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
                    "workspaces of provider '" + open.admission().provider() + "' offer no port forwarding through the gateway"));
            return f;
        }
        sessions.channelOpened(session, "direct-tcpip");
        pumps.execute(() -> {
            try {
                connection = shell.connect(targets.apply(open.admission()), host, port);
            } catch (ProviderException e) {
                f.setException(new SshChannelOpenException(getChannelId(), SshConstants.SSH_OPEN_CONNECT_FAILED,
                        e.getMessage()));
                return;
            }
            toClient = new ChannelOutputStream(this, getRemoteWindow(), log, SshConstants.SSH_MSG_CHANNEL_DATA, true);
            try {
                signalChannelOpenSuccess();
                f.setOpened();
            } catch (RuntimeException e) {
                f.setException(e);
                closeConnection();
                return;
            }
            pumps.execute(this::toClient);
        });
        return f;
    }

    /** Workspace to client; at the workspace's end of stream the channel sends EOF and closes. */
    private void toClient() {
        byte[] buffer = new byte[32 * 1024];
        InputStream from = connection.stdout();
        try {
            int n;
            while ((n = from.read(buffer)) >= 0) {
                if (n > 0) {
                    toClient.write(buffer, 0, n);
                    toClient.flush();
                }
            }
        } catch (IOException e) {
            // the connection or the channel closed
        }
        try {
            toClient.close();
        } catch (IOException e) {
            // already closed
        }
        close(false);
    }

    @Override
    protected void doWriteData(byte[] data, int off, long len) throws IOException {
        WorkspaceShell.ShellProcess c = connection;
        if (c == null || isClosing()) {
            return;
        }
        c.stdin().write(data, off, (int) len);
        c.stdin().flush();
        getLocalWindow().release(len);
    }

    @Override
    protected void doWriteExtendedData(byte[] data, int off, long len) throws IOException {
        throw new SshException("a forwarded connection has no extended data");
    }

    @Override
    public void handleEof() throws IOException {
        super.handleEof();
        WorkspaceShell.ShellProcess c = connection;
        if (c != null) {
            try {
                c.stdin().close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    @Override
    protected void preClose() {
        closeConnection();
        super.preClose();
    }

    private void closeConnection() {
        WorkspaceShell.ShellProcess c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }
}
