/**
 * The representative wait chain as a graph (Cytoscape.js): one node per thread, ALPC message, IRP, driver, queue or
 * lock of the chain's steps, the root blocker (the last step's `to`) highlighted, each edge's evidence on click.
 */
import cytoscape from 'cytoscape';
import { useEffect, useRef } from 'react';
import type { ChainStep } from '../api.ts';

export interface ChainGraphProps {
  chain: ChainStep[];
  rootId: string | null;
  onSelectStep(index: number): void;
  selectedStep: number | null;
}

const KIND_COLOURS: Record<string, string> = {
  thread: '#dbeafe',
  process: '#e0e7ff',
  'alpc-message': '#fef3c7',
  irp: '#fde68a',
  driver: '#ede9fe',
  'work-queue': '#dcfce7',
  lock: '#fce7f3',
};

export function kindOf(nodeId: string): string {
  return nodeId.split(':')[0] ?? 'node';
}

/** Nodes in chain order, in rows of COLUMNS that turn back at each end, so a long chain stays readable. */
const COLUMNS = 4;
function snakePosition(index: number): { x: number; y: number } {
  const row = Math.floor(index / COLUMNS);
  const column = index % COLUMNS;
  return { x: (row % 2 === 0 ? column : COLUMNS - 1 - column) * 300, y: row * 130 };
}

export function ChainGraph({ chain, rootId, onSelectStep, selectedStep }: ChainGraphProps) {
  const container = useRef<HTMLDivElement>(null);
  const cyRef = useRef<cytoscape.Core | null>(null);
  const onSelect = useRef(onSelectStep);
  onSelect.current = onSelectStep;

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const order: string[] = [];
    const labels = new Map<string, string>();
    for (const step of chain) {
      for (const [id, label] of [[step.from, step.fromLabel], [step.to, step.toLabel]] as const) {
        if (!labels.has(id)) {
          labels.set(id, label);
          order.push(id);
        }
      }
    }
    const elements: cytoscape.ElementDefinition[] = [
      ...order.map((id, index) => ({
        group: 'nodes' as const,
        data: { id, label: labels.get(id) ?? id, kind: kindOf(id), colour: KIND_COLOURS[kindOf(id)] ?? '#f3f4f6' },
        position: snakePosition(index),
        classes: id === rootId ? 'root' : '',
      })),
      ...chain.map((step, index) => ({
        group: 'edges' as const,
        data: { id: `step-${index}`, source: step.from, target: step.to, label: step.relation, step: index },
        classes: step.inferred ? 'inferred' : '',
      })),
    ];
    const cy = cytoscape({
      container: element,
      elements,
      layout: { name: 'preset', fit: true, padding: 30 },
      wheelSensitivity: 0.3,
      boxSelectionEnabled: false,
      autoungrabify: true,
      style: [
        {
          selector: 'node',
          style: {
            shape: 'round-rectangle',
            'background-color': 'data(colour)',
            'border-width': 1,
            'border-color': '#475569',
            label: 'data(label)',
            'text-wrap': 'wrap',
            'text-max-width': '170px',
            'text-valign': 'center',
            'text-halign': 'center',
            'font-size': 12,
            color: '#111827',
            width: 190,
            height: 56,
          },
        },
        {
          selector: 'node.root',
          style: { 'background-color': '#fee2e2', 'border-color': '#b91c1c', 'border-width': 5, color: '#7f1d1d', 'font-weight': 'bold' },
        },
        {
          selector: 'edge',
          style: {
            width: 2,
            'line-color': '#64748b',
            'target-arrow-color': '#64748b',
            'target-arrow-shape': 'triangle',
            'curve-style': 'bezier',
            label: 'data(label)',
            'font-size': 10,
            color: '#1f2937',
            'text-background-color': '#ffffff',
            'text-background-opacity': 1,
            'text-background-padding': '2px',
          },
        },
        { selector: 'edge.inferred', style: { 'line-style': 'dashed' } },
        { selector: 'edge.selected', style: { width: 4, 'line-color': '#1d4ed8', 'target-arrow-color': '#1d4ed8' } },
      ],
    });
    cy.on('tap', 'edge', (event) => onSelect.current(Number(event.target.data('step'))));
    cy.on('tap', 'node', (event) => {
      const index = chain.findIndex((step) => step.to === event.target.id());
      if (index >= 0) onSelect.current(index);
    });
    cyRef.current = cy;
    // For the end-to-end test and for whoever inspects the page: which node is highlighted as the root blocker.
    element.dataset.rootNode = cy.$('node.root').id() ?? '';
    (element as HTMLDivElement & { cy?: cytoscape.Core }).cy = cy;
    return () => {
      cyRef.current = null;
      cy.destroy();
    };
  }, [chain, rootId]);

  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.edges().removeClass('selected');
    if (selectedStep !== null) cy.$id(`step-${selectedStep}`).addClass('selected');
  }, [selectedStep, chain]);

  return (
    <div
      ref={container}
      className="chain-graph"
      data-testid="chain-graph"
      role="img"
      aria-label={`Wait chain of ${chain.length} steps; the root blocker is highlighted in red. The same steps are listed below.`}
    />
  );
}
