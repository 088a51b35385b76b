export const USAGE = `Usage: lanspread-peer <command> [options]

Commands:
  serve      Run a peer: share the game directory, discover peers on the LAN.
             --game-dir DIR      folder with one sub-folder per game (required)
             --state-dir DIR     launcher state (identity, index, journals); default ./.lanspread-state
             --name NAME         display name shown to other peers
             --port PORT         QUIC control port (UDP); default: any free port
             --host ADDR         bind address; default 0.0.0.0
             --peer HOST:PORT    contact this peer directly (repeatable; for networks without multicast)
             --no-mdns           do not advertise or browse mDNS
             --chunk-size BYTES  chunk size of the manifests this peer serves (default 4 MiB)
             --catalog FILE      use this catalog instead of the bundled one (same JSON format)
             --web               also serve the web UI (HTTP + WebSocket)
             --web-host ADDR     web UI bind address; default 127.0.0.1 (others require the printed token)
             --web-port PORT     web UI port; default 7420
             --download-limit N  download cap in bytes/s (0 = unlimited)
             --upload-limit N    upload cap in bytes/s (0 = unlimited)
             --log-level LEVEL   debug | info | warn | error
  peers      List the peers a running 'serve' (same --state-dir) sees.
  games      List the games on the LAN as a running 'serve' (same --state-dir) sees them.
  download   Download and install a game through a running 'serve': download <gameId> [--no-install] [--state-dir DIR]
             (--no-install: only download and verify the archives, to install later)
  stream-install
             Low-disk install through a running 'serve': a peer unpacks the game and streams the
             files into local/; no archive lands here. stream-install <gameId> [--state-dir DIR]
  queue      The download queue of a running 'serve': queue [list] | queue move <gameId> <position>
             (position 0 = next to start) [--state-dir DIR] [--json]
  pause      Pause a queued or running download, keeping what it verified: pause <gameId> [--state-dir DIR]
  resume     Put a paused download back into the queue: resume <gameId> [--state-dir DIR]
  demo-games Write the generated demo games (demo-arena, demo-racer, demo-tanks) into a game directory;
             games already there are kept. Used by \`npm start -- --demo\`.
             --game-dir DIR      where to write them (required)
             --seed-index N      1: all three games (default); 2: demo-arena and demo-racer

Options of peers, games, download, stream-install:
  --state-dir DIR   the state directory of the running peer; default ./.lanspread-state
  --json            machine-readable output
`;
