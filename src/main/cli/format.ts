export { formatBytes } from '../../shared/units';
