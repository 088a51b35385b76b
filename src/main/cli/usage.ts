export const USAGE = `Usage: lanspread-peer <command> [options]

Commands:
  serve      Run a peer: share the game directory, discover peers on the LAN.
             --game-dir DIR      folder with one sub-folder per game; an existing, writable folder. Overrides
                                 the folder saved in Settings (and is saved in its place)
             --default-game-dir DIR
                                 the folder of a first start only: a folder saved in Settings wins
                                 (what \`npm start\` passes). One of the two is needed until a folder is saved
             --state-dir DIR     launcher state (identity, index, journals, settings); default ./.lanspread-state
             --name NAME         display name shown to other peers (overrides the saved one, and is saved)
             --port PORT         QUIC control port (UDP); default 7400, or a free port when 7400 is taken
                                 (said at start); a port given here must be free
             --host ADDR         bind address; default 0.0.0.0
             --peer HOST:PORT    also contact this peer, this run (repeatable; for networks without multicast);
                                 the manual peers saved in Settings are kept
             --no-mdns           do not advertise or browse mDNS
             --chunk-size SIZE   chunk size of the manifests this peer serves, e.g. 1MiB (default 4 MiB)
             --catalog FILE      use this catalog instead of the bundled one (same JSON format)
             --web               also serve the web UI (HTTP + WebSocket)
             --web-host ADDR     web UI bind address; default 127.0.0.1 (others require the printed token)
             --web-port PORT     web UI port; default 7420
             --download-limit N  download cap per second, e.g. 4MiB, 500KB, 100MB or bytes (0 = unlimited);
                                 overrides the saved cap (and is saved)
             --upload-limit N    upload cap per second, the same way
             --log-level LEVEL   debug | info | warn | error
  peers      List the peers a running 'serve' (same --state-dir) sees.
  games      List the games on the LAN as a running 'serve' (same --state-dir) sees them.
  download   Download and install a game through a running 'serve': download <gameId> [--no-install] [--state-dir DIR]
             (--no-install: only download and verify the archives, to install later)
             Ctrl-C stops following it; the download continues in the running peer (see 'cancel').
  cancel     Cancel a download the running 'serve' is doing: cancel <gameId> [--state-dir DIR]
  stream-install
             Low-disk install through a running 'serve': a peer unpacks the game and streams the
             files into local/; no archive lands here. stream-install <gameId> [--state-dir DIR]
  share      Share a game that is not in the bundled catalog through a running 'serve': its folder
             <game-dir>/<id>/ holds the archives; the description goes to every peer with the game.
             share <id> --title TITLE --launch PLATFORM=PATH [--version V] [--description TEXT]
                   [--genre G]... [--max-players N] [--arg PLATFORM=ARG]... [--cwd PLATFORM=DIR]
             PLATFORM is linux, win32 or darwin; PATH and DIR are inside the game's local/ folder.
             --version V writes V into the folder's version.ini; without it the folder's own is used.
             share <id> --stop: stop sharing it (peers no longer list it from here; the folder stays).
  queue      The download queue of a running 'serve': queue [list] | queue move <gameId> <position>
             (position 0 = next to start) [--state-dir DIR] [--json]
  pause      Pause a queued or running download, keeping what it verified: pause <gameId> [--state-dir DIR]
  resume     Put a paused download back into the queue: resume <gameId> [--state-dir DIR]
  demo-games Write the generated demo games (demo-arena, demo-racer, demo-tanks) into a game directory;
             games already there are kept. Used by \`npm start -- --demo\`.
             --game-dir DIR      where to write them (required)
             --seed-index N      1: all three games (default); 2: demo-arena and demo-racer

Sizes: KB, MB, GB are decimal (1 MB = 1,000,000 bytes), KiB, MiB, GiB binary (1 MiB = 1,048,576 bytes);
every size the launcher shows is binary.

Options of peers, games, download, stream-install, cancel, share:
  --state-dir DIR   the state directory of the running peer; default ./.lanspread-state
  --json            machine-readable output
`;
